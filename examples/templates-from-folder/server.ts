// Runs the templates-from-folder example on PORT (default 3000).
import { createApp } from './app.js';

const { app, close } = createApp();
const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  console.log(
    'templates-from-folder example: send { "DefaultContent": { "Template": { "TemplateName": "welcome" } }, ... }',
  );
});
process.on('SIGINT', () => {
  server.close();
  void close().then(() => process.exit(0));
});
