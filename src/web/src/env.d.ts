// Vite client types: CSS imports and import.meta.env in the UI bundle.
/// <reference types="vite/client" />
