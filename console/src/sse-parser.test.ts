// The console's reader of server-sent events (console/web/sse-parser.ts): the console reads the
// stream with fetch() because EventSource cannot send the API key as a header.
import { expect, it } from 'vitest';
import { SseParser } from '../web/sse-parser.js';

it('reads events split anywhere across chunks, with ids and multi-line data', () => {
  const p = new SseParser();
  const stream = 'event: ready\ndata: {"cursor":4}\nretry: 1000\n\n: keep-alive\n\nevent: invocation\ndata: line one\ndata: line two\nid: 5\n\n';
  const events = [];
  for (let i = 0; i < stream.length; i += 3) events.push(...p.push(stream.slice(i, i + 3)));
  expect(events).toEqual([
    { event: 'ready', data: '{"cursor":4}', id: undefined },
    { event: 'invocation', data: 'line one\nline two', id: '5' },
  ]);
  expect(p.lastId).toBe('5');
});

it('accepts CRLF and CR line ends, and defaults the event name to message', () => {
  const p = new SseParser();
  expect(p.push('data: a\r')).toEqual([]);
  expect(p.push('\n\r\ndata:b\r\r')).toEqual([{ event: 'message', data: 'a', id: undefined }]);
  // A CR at the end of a chunk may be half of a CRLF: the blank line is only known with the next byte.
  expect(p.push('\n')).toEqual([{ event: 'message', data: 'b', id: undefined }]);
});
