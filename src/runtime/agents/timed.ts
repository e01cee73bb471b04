import { ArcpError } from '../../engine/errors.js';
import type { AgentDefinition } from '../agent.js';
import { opt } from './input.js';

export const slow: AgentDefinition = {
  name: 'slow',
  run: async (ctx) => {
    const steps = opt(ctx.input, 'steps', 600);
    const tickMs = opt(ctx.input, 'tickMs', 100);
    ctx.status('walking');
    for (let i = 1; i <= steps; i++) {
      await ctx.sleep(tickMs);
      ctx.metric('step', i, 'count');
    }
    return { steps };
  },
};

export const ticker: AgentDefinition = {
  name: 'ticker',
  run: async (ctx) => {
    const ticks = opt(ctx.input, 'ticks', 8);
    const tickMs = opt(ctx.input, 'tickMs', 150);
    ctx.status('ticking');
    for (let i = 1; i <= ticks; i++) {
      await ctx.sleep(tickMs);
      ctx.log('info', `tick ${i}/${ticks}`);
    }
    ctx.artifact({ uri: 'mem://ticker/result', content_type: 'application/json' });
    return { ticks };
  },
};

export const flood: AgentDefinition = {
  name: 'flood',
  run: async (ctx) => {
    const count = opt(ctx.input, 'count', 300);
    for (let i = 1; i <= count; i++) {
      ctx.metric('tick', i, 'count');
      if (i % 64 === 0 && i < count) await ctx.pace();
    }
    return { emitted: count };
  },
};

export const leaseWatch: AgentDefinition = {
  name: 'lease-watch',
  run: async (ctx) => {
    const tickMs = opt(ctx.input, 'tickMs', 200);
    const ticks = opt(ctx.input, 'ticks', 100);
    for (let i = 1; i <= ticks; i++) {
      await ctx.toolCall('index.read', { part: i }, () => ({ bytes: 1024 * i }), { callId: `r${i}` });
      if (i < ticks) await ctx.sleep(tickMs);
    }
    return { ticks };
  },
};

export const budget: AgentDefinition = {
  name: 'budget',
  run: async (ctx) => {
    const iterations = opt(ctx.input, 'iterations', 8);
    const perCallUSD = opt(ctx.input, 'perCallUSD', 0.3);
    const onExhausted = opt(ctx.input, 'onExhausted', 'error');
    for (let i = 1; i <= iterations; i++) {
      try {
        await ctx.toolCall(
          'search.web',
          { query: `topic ${i}` },
          () => {
            ctx.metric('cost.search', perCallUSD, 'USD');
            return { hits: 10 };
          },
          { callId: `call_${i}` },
        );
      } catch (e) {
        if (e instanceof ArcpError && e.code === 'BUDGET_EXHAUSTED') {
          if (onExhausted === 'return') return { partial: true, completed: i - 1 };
          throw e;
        }
        throw e;
      }
    }
    return { partial: false, completed: iterations };
  },
};
