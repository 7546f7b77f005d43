// Runs the API-key example on PORT (default 3000).
import { createApp } from './app.js';

const { app, close } = createApp();
const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  console.log('api-key-auth example: curl -H "Authorization: Bearer key-acme-123" ...');
});
process.on('SIGINT', () => {
  server.close();
  void close().then(() => process.exit(0));
});
