import { mount } from '../ui/boot';
import { OperatorApp } from './app';

void mount('operator', () => <OperatorApp />);
