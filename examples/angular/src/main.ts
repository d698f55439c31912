import { bootstrapApplication } from '@angular/platform-browser';
import { provideBrowserGlobalErrorListeners, provideZonelessChangeDetection } from '@angular/core';
import { configure } from 'jitsi-live-player';
import { App } from './app/app';

// Angular's esbuild builder does not copy files referenced with
// `new URL(..., import.meta.url)`: angular.json copies the package's .wasm
// and hls.min.js to /jitsi-live-player/, and the player is told so here,
// before anything mounts. (Importing the package also defines the
// <jitsi-live-player> element.)
configure({ assetBase: new URL('jitsi-live-player/', document.baseURI) });

bootstrapApplication(App, {
  providers: [provideBrowserGlobalErrorListeners(), provideZonelessChangeDetection()],
}).catch((err) => console.error(err));
