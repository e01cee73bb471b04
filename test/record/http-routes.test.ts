import { describe, expect, it } from 'vitest';
import { parseRoute, pickRoute, type HttpRoute } from '../../src/record/http-exchange.js';
import { refusal } from '../helpers/errors.js';

describe('--http PREFIX=URL', () => {
  it('splits at the first = when what is before it is a path; a bare URL is the route for /', () => {
    expect(parseRoute('/openai=https://api.openai.com/v1')).toEqual({ prefix: '/openai', upstream: 'https://api.openai.com/v1' });
    expect(parseRoute('http://127.0.0.1:8080/v1')).toEqual({ prefix: '/', upstream: 'http://127.0.0.1:8080/v1' });
    // An = inside the URL (a query) is the URL's, not a prefix.
    expect(parseRoute('http://127.0.0.1:8080/v1?key=a')).toEqual({ prefix: '/', upstream: 'http://127.0.0.1:8080/v1?key=a' });
    expect(parseRoute('/q=http://h/x?a=b')).toEqual({ prefix: '/q', upstream: 'http://h/x?a=b' });
  });

  it('trailing slashes go from both; a prefix of slashes only is /', () => {
    expect(parseRoute('/llm///=http://h/v1///')).toEqual({ prefix: '/llm', upstream: 'http://h/v1' });
    expect(parseRoute('///=http://h/')).toEqual({ prefix: '/', upstream: 'http://h' });
    expect(parseRoute('/=http://h')).toEqual({ prefix: '/', upstream: 'http://h' });
  });

  it('refuses what is not an http(s) URL, and a prefix without its leading /, each with an example', () => {
    const notUrl = refusal(() => parseRoute('/x=not a url'));
    expect(notUrl.code).toBe('E_USAGE');
    expect(notUrl.message).toBe('--http "/x=not a url": "not a url" is not a URL');
    expect(notUrl.hint).toBe('e.g. --http /openai=https://api.openai.com/v1');
    const ws = refusal(() => parseRoute('/x=ws://h/'));
    expect(ws.code).toBe('E_USAGE');
    expect(ws.message).toBe('--http "/x=ws://h/": upstream must be http:// or https://');
    expect(ws.hint).toBe('e.g. --http /llm=http://127.0.0.1:8080');
    const bare = refusal(() => parseRoute('llm=http://h'));
    expect(bare.code).toBe('E_USAGE');
    expect(bare.message).toBe('--http "llm=http://h": the prefix must start with /');
    expect(bare.hint).toBe('e.g. --http /openai=https://api.openai.com/v1');
    expect(parseRoute('/s=https://h').upstream).toBe('https://h');
    // An = first is no prefix: the whole spec is taken as the URL, and is not one.
    expect(refusal(() => parseRoute('=http://h')).message).toBe('--http "=http://h": "=http://h" is not a URL');
  });
});

describe('which route a request takes', () => {
  const r = (prefix: string): HttpRoute => ({ prefix, upstream: `http://h${prefix}` });
  const routes = [r('/'), r('/llm'), r('/llm/tools')];

  it('the longest prefix that matches whole path segments (or the query) wins; / catches the rest', () => {
    expect(pickRoute(routes, '/llm')).toBe(routes[1]);
    expect(pickRoute(routes, '/llm/chat')).toBe(routes[1]);
    expect(pickRoute(routes, '/llm?x=1')).toBe(routes[1]);
    expect(pickRoute(routes, '/llm/tools/run')).toBe(routes[2]);
    expect(pickRoute(routes, '/llmx')).toBe(routes[0]);
    expect(pickRoute(routes, '/other')).toBe(routes[0]);
    // Order given does not matter.
    expect(pickRoute([...routes].reverse(), '/llm/tools')).toBe(routes[2]);
    expect(pickRoute([...routes].reverse(), '/llm/chat')).toBe(routes[1]);
    // The same prefix twice: the first given wins.
    const twice = [r('/llm'), { prefix: '/llm', upstream: 'http://other' }];
    expect(pickRoute(twice, '/llm/chat')).toBe(twice[0]);
  });

  it('without a / route, a path no prefix covers has none', () => {
    expect(pickRoute([r('/llm')], '/llmx')).toBeUndefined();
    expect(pickRoute([r('/llm')], '/')).toBeUndefined();
    expect(pickRoute([], '/llm')).toBeUndefined();
  });
});
