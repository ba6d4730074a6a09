/**
 * JSON requests to the local stack's own endpoints (health, status, reset) over node:http. Every
 * command probes the stack before its first call, and Node's global fetch loads undici on first
 * use — about as much CPU as the rest of a command's start-up — so plain http is used here.
 */
import http from 'node:http';

export interface LocalResponse {
  status: number;
  ok: boolean;
  /** The parsed JSON body; undefined when the body is not JSON. */
  body: unknown;
}

export function requestJson(
  url: string,
  options: { method?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<LocalResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        // One connection per request, closed after it: nothing idle keeps the command alive.
        agent: false,
        ...(options.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(options.timeoutMs) }),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            body = undefined;
          }
          const status = response.statusCode ?? 0;
          resolve({ status, ok: status >= 200 && status < 300, body });
        });
      },
    );
    request.on('error', reject);
    request.end();
  });
}
