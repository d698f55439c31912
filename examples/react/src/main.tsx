import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
// Defines <jitsi-live-player> (before React first renders it, so React sees
// its properties) and exports mount().
import 'jitsi-live-player';
import { App } from './App';
import { readConfig } from './config';
import './app.css';

const root = document.getElementById('root');
if (!root) throw new Error('#root missing');
createRoot(root).render(
  <StrictMode>
    <App config={readConfig()} />
  </StrictMode>,
);
