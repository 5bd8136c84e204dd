import { mount } from '../ui/boot';
import { ConsoleApp } from './app';

void mount('console', () => <ConsoleApp />);
