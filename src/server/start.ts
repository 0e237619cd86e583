// Starts the server for real: loud auth warnings, listen, and graceful shutdown on SIGTERM/SIGINT (finish in-flight, exit 0).
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { GeulConfig } from '../core/config.js';
import { geulError } from '../core/errors.js';
import { buildServer, type ServerDeps } from './app.js';
import { authEnabled, isLoopback } from './guard.js';

export interface RunningServer {
  app: FastifyInstance;
  /** A URL a client on this machine can use (loopback when bound to every interface). */
  url: string;
  /** The address and port actually bound, e.g. `0.0.0.0:8787` or `[::1]:8787`. */
  bound: string;
  /** Stops accepting, lets in-flight requests finish (up to the configured deadline), closes the pool. */
  shutdown(): Promise<'clean' | 'deadline'>;
}

export async function startServer(config: GeulConfig, deps: ServerDeps = {}, options: { handleSignals?: boolean } = {}): Promise<RunningServer> {
  const app = await buildServer(config, deps);
  const { host, port, auth } = config.server;
  if (auth === 'off' && !isLoopback(host)) {
    app.log.warn(`!!! AUTHENTICATION IS OFF while listening on ${host}: anyone who can reach this port can use the API. Use --auth required (or auto) unless this is intended. !!!`);
    process.stderr.write(`geul: WARNING: authentication is off and the server listens on ${host} (not loopback); anyone who can reach it can use it.\n`);
  }
  if (authEnabled(config) && !deps.keys && app.geul.keys) {
    const count = await app.geul.keys.count();
    const flag = config.redis ? ' --redis URL' : '';
    if (count === 0) process.stderr.write(`geul: API keys are required but none exist yet; create one with \`geul keys create --name NAME --scopes tasks${flag}\`\n`);
  }
  const { url, bound } = await listen(app, host, port);
  let closing: Promise<'clean' | 'deadline'> | undefined;
  const shutdown = (): Promise<'clean' | 'deadline'> => {
    closing ??= (async () => {
      app.log.info('shutting down: no new connections, finishing in-flight requests');
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'deadline'>((resolve) => { timer = setTimeout(() => resolve('deadline'), config.server.shutdownTimeoutMs); });
      const result = await Promise.race([app.close().then(() => 'clean' as const), deadline]);
      clearTimeout(timer);
      if (result === 'deadline') app.server.closeAllConnections?.();
      return result;
    })();
    return closing;
  };
  if (options.handleSignals) {
    const onSignal = (signal: string): void => {
      process.stderr.write(`geul: ${signal} received, finishing in-flight requests\n`);
      void shutdown().then((result) => {
        if (result === 'deadline') process.stderr.write('geul: shutdown deadline passed; open requests were cut\n');
        process.exit(result === 'clean' ? 0 : 1);
      });
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { app, url, bound, shutdown };
}

const hostPort = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/** Listens and reports the real bind address; a taken port or a bad address becomes a catalogued error (server closed). */
async function listen(app: FastifyInstance, host: string, port: number): Promise<{ url: string; bound: string }> {
  let given: string;
  try {
    given = await app.listen({ host, port });
  } catch (err) {
    await app.close();
    const e = err as NodeJS.ErrnoException;
    const address = hostPort(host, port);
    if (e.code === 'EADDRINUSE') throw geulError('ADDRESS_IN_USE', { address }, err);
    throw geulError('LISTEN_FAILED', { address, detail: e.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' ? 'no such address on this machine' : (e.code ?? 'unknown error') }, err);
  }
  const info = app.server.address() as AddressInfo;
  const bound = hostPort(info.address, info.port);
  const everywhere = info.address === '0.0.0.0' || info.address === '::';
  const local = everywhere ? (info.address === '::' ? '[::1]' : '127.0.0.1') : hostPort(info.address, info.port).replace(/:\d+$/, '');
  const scheme = given.startsWith('https:') ? 'https' : 'http';
  return { url: `${scheme}://${local}:${info.port}`, bound };
}
