// Text imports: `import text from './file?raw'` gives the file's contents (Vite in tests, the tsup plugin in builds).
declare module '*?raw' {
  const text: string;
  export default text;
}
