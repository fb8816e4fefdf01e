import { describe, expect, it } from 'vitest';
import { ApiError, parseChatRequest } from './schema';

const ok = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

function rejects(body: unknown): ApiError {
  try {
    parseChatRequest(body);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('accepted');
}

describe('chat request schema', () => {
  it('fills OpenAI defaults and normalises stop, content parts and developer messages', () => {
    expect(parseChatRequest(ok)).toMatchObject({ temperature: 1, topP: 1, n: 1, maxTokens: null, stop: [], seed: null, stream: false });
    const r = parseChatRequest({
      ...ok, messages: [{ role: 'developer', content: [{ type: 'text', text: 'be brief' }] }, { role: 'user', content: 'x' }],
      stop: '\n', max_completion_tokens: 9, stream: true, stream_options: { include_usage: true }, frequency_penalty: 0,
    });
    expect(r.messages[0]).toEqual({ role: 'system', content: 'be brief' });
    expect([r.stop, r.maxTokens, r.includeUsage]).toEqual([['\n'], 9, true]);
  });

  it.each([
    [{ ...ok, temperature: 'hot' }, 'temperature'],
    [{ ...ok, temperature: 3 }, 'temperature'],
    [{ ...ok, top_p: 0 }, 'top_p'],
    [{ ...ok, max_tokens: -1 }, 'max_tokens'],
    [{ ...ok, max_tokens: 1.5 }, 'max_tokens'],
    [{ ...ok, n: 0 }, 'n'],
    [{ ...ok, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    [{ ...ok, seed: 'x' }, 'seed'],
    [{ ...ok, messages: [] }, 'messages'],
    [{ ...ok, messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    [{ messages: ok.messages }, 'model'],
  ])('rejects %j naming %s', (body, param) => {
    const e = rejects(body);
    expect(e.status).toBe(400);
    expect(e.param).toBe(param);
    expect(e.body().error).toMatchObject({ type: 'invalid_request_error', param });
  });

  it('rejects non-object bodies', () => {
    for (const body of [null, [], 'x', 3]) expect(rejects(body).status).toBe(400);
  });
});
