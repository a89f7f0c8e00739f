// Drives the gateway's self-hosted GraphiQL in headless Debian chromium (playwright-core, no bundled browser download).
// Invariants: never touches the network beyond the server under test; callers own the browser and must close it.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's package path; override with CHROMIUM_PATH for other distros. */
const DEFAULT_CHROMIUM = '/usr/bin/chromium';

// Flags keep Chrome from phoning home (updates, sync, safe-browsing lists) so off-host request checks only see the page's own traffic.
const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
const RESPONSE_EDITOR = '.graphiql-response .CodeMirror';
const EXECUTE_BUTTON = 'button.graphiql-execute-button';
// The run button doubles as the stop button while an operation (e.g. a subscription) is in flight; its label tells which.
const EXECUTE_IDLE = `${EXECUTE_BUTTON}[aria-label^="Execute"]`;

/** Launches headless chromium from the system install; throws an actionable error when it is missing. */
export async function launchChromium(executablePath: string = process.env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM): Promise<Browser> {
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}. Install it (Debian: apt-get install chromium) or set CHROMIUM_PATH to a chromium/chrome binary.`,
    );
  }
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

export interface RunInGraphiqlOptions {
  /** Keep waiting until the result pane text satisfies this (e.g. a subscription has streamed N events). Default: any non-empty text. */
  until?: (resultText: string) => boolean;
  /** Overall budget for load + execution, in ms. Default 30 000. */
  timeoutMs?: number;
  /** Skip navigation and reuse the GraphiQL already loaded in `page` (faster for several operations in a row). */
  reuse?: boolean;
  /**
   * Return as soon as the operation is running (the run button has become the stop button), with the result pane's
   * text then: for a subscription that shows nothing until an event comes.
   */
  untilRunning?: boolean;
}

/**
 * Opens `${baseUrl}/graphql` as a browser navigation (Accept: text/html…), puts `query` and `variables` into GraphiQL
 * (variables are cleared when omitted), clicks Run and returns the result pane text once a response is shown.
 * For a subscription it returns while the subscription keeps running; pass `until` to wait for later events and call
 * stopGraphiql() to end it. `query` should hold one operation (with several, GraphiQL asks which one to run).
 */
export async function runInGraphiql(
  page: Page,
  baseUrl: string,
  query: string,
  variables?: Record<string, unknown> | string,
  opts: RunInGraphiqlOptions = {},
): Promise<string> {
  const timeout = opts.timeoutMs ?? 30_000;
  if (!opts.reuse) {
    // networkidle lets the on-load introspection finish, so its (possible) error can't land in the result pane after our run.
    await page.goto(`${baseUrl.replace(/\/+$/, '')}/graphql`, { waitUntil: 'networkidle', timeout });
  }
  await page.waitForSelector(QUERY_EDITOR, { timeout });
  // With `reuse`, a still-running subscription would keep overwriting the result pane, and the click below would stop it.
  await stopGraphiql(page, timeout);

  const variablesText = variables === undefined ? '' : typeof variables === 'string' ? variables : JSON.stringify(variables, null, 2);
  // CodeMirror 5 instances hang off their wrapper element; setValue goes through GraphiQL's change handlers like typing does,
  // without fighting auto-closing brackets and autocomplete popups that keyboard input would trigger.
  await page.evaluate(
    ({ queryEditor, responseEditor, query, variablesText }) => {
      type CM = { setValue(v: string): void };
      const cm = (sel: string): CM | undefined => (document.querySelector(sel) as (Element & { CodeMirror?: CM }) | null)?.CodeMirror;
      const q = cm(queryEditor);
      if (!q) throw new Error('GraphiQL query editor not found');
      q.setValue(query);
      // GraphiQL 3 renders the editor-tools section as [variables editor, headers editor]; the headers one is toggled
      // via a `hidden` class, so position (not visibility) identifies the variables editor.
      const varsHost = document.querySelector('.graphiql-editor-tool .graphiql-editor');
      const v = (varsHost?.querySelector('.CodeMirror') as (Element & { CodeMirror?: CM }) | null)?.CodeMirror;
      if (variablesText && !v) throw new Error('GraphiQL variables editor not found');
      v?.setValue(variablesText);
      // Blank the result pane so "a response is shown" means *this* run's response, not one restored from a persisted tab.
      cm(responseEditor)?.setValue('');
    },
    { queryEditor: QUERY_EDITOR, responseEditor: RESPONSE_EDITOR, query, variablesText },
  );

  // GraphiQL re-parses the query (and re-picks the operation name) in a 100 ms debounced change handler; clicking before it
  // ran would execute the new text with the *previous* operationName ("Unknown operation named …"). Its parsed AST's source
  // equals the editor text once it has caught up; give up after a while for unparsable queries, which have no AST at all.
  const parsedBy = Date.now() + 2_000;
  while (Date.now() < parsedBy) {
    const caughtUp = await page.evaluate((sel) => {
      type CM = { getValue(): string; documentAST?: { loc?: { source?: { body?: string } } } | null };
      const cm = (document.querySelector(sel) as (Element & { CodeMirror?: CM }) | null)?.CodeMirror;
      return !!cm && cm.documentAST?.loc?.source?.body === cm.getValue();
    }, QUERY_EDITOR);
    if (caughtUp) break;
    await new Promise((r) => setTimeout(r, 50));
  }

  await page.click(EXECUTE_BUTTON, { timeout });
  if (opts.untilRunning) {
    await page.waitForSelector(`${EXECUTE_BUTTON}[aria-label^="Stop"]`, { timeout });
    return '';
  }

  // Poll from node rather than page.waitForFunction: `until` may close over test variables, which can't be shipped to the page.
  const deadline = Date.now() + timeout;
  let text = '';
  for (;;) {
    text = await page.evaluate((sel) => {
      const el = document.querySelector(sel) as (Element & { CodeMirror?: { getValue(): string } }) | null;
      return el?.CodeMirror?.getValue() ?? '';
    }, RESPONSE_EDITOR);
    if (text.trim() && (!opts.until || opts.until(text))) return text;
    if (Date.now() > deadline) {
      throw new Error(`runInGraphiql: no${opts.until ? ' matching' : ''} response within ${timeout} ms; result pane: ${JSON.stringify(text)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Ends the operation GraphiQL is running (typically a subscription), if any, and waits until the Run button is back. */
export async function stopGraphiql(page: Page, timeoutMs = 10_000): Promise<void> {
  const label = await page.getAttribute(EXECUTE_BUTTON, 'aria-label', { timeout: timeoutMs });
  if (label?.startsWith('Stop')) await page.click(EXECUTE_BUTTON, { timeout: timeoutMs });
  await page.waitForSelector(EXECUTE_IDLE, { timeout: timeoutMs });
}

export interface OffHostRequest {
  url: string;
  kind: 'request' | 'websocket';
}

/**
 * Records every request (HTTP and WebSocket) the page makes to a host other than `allowedHost`.
 * `allowedHost` is a hostname ('127.0.0.1') or host:port ('127.0.0.1:4000'). The returned array fills in as the page runs.
 */
export function collectOffHostRequests(page: Page, allowedHost: string): OffHostRequest[] {
  const offHost: OffHostRequest[] = [];
  const check = (raw: string, kind: OffHostRequest['kind']): void => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      offHost.push({ url: raw, kind });
      return;
    }
    // data:, blob:, about: never touch the network.
    if (url.protocol === 'data:' || url.protocol === 'blob:' || url.protocol === 'about:') return;
    // host includes the port, hostname doesn't: accept either spelling of allowedHost.
    if (url.host !== allowedHost && url.hostname !== allowedHost) offHost.push({ url: raw, kind });
  };
  page.on('request', (req) => check(req.url(), 'request'));
  page.on('websocket', (ws) => check(ws.url(), 'websocket'));
  return offHost;
}

/** Records console errors, uncaught page errors and CSP violations; the returned array fills in as the page runs. */
export function collectConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}
