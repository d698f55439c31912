/// <reference types="vite/client" />
// JSX typing of <jitsi-live-player> (props, and on<event> handlers typed by
// the package's event map).
/// <reference types="jitsi-live-player/react" />
