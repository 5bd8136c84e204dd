import { mount } from '../ui/boot';
import { WorkspaceApp } from './app';

void mount('workspace', () => <WorkspaceApp />);
