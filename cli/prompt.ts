import { createInterface } from 'node:readline/promises';

/** Questions to the person at the terminal. */
export interface Prompt {
  ask(question: string): Promise<string>;
  /** Asks without echoing what is typed (a client secret). */
  askHidden(question: string): Promise<string>;
}

/**
 * The terminal's prompt (questions on stderr, so stdout stays for results), or undefined when
 * stdin is not a terminal: a script must pass options instead of hanging on a question.
 */
export function terminalPrompt(): Prompt | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return {
    ask: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
    askHidden: (question) =>
      new Promise<string>((resolve, reject) => {
        const stdin = process.stdin;
        process.stderr.write(question);
        stdin.setRawMode(true);
        stdin.resume();
        stdin.setEncoding('utf8');
        let typed = '';
        const done = (err?: Error) => {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          if (err) reject(err);
          else resolve(typed);
        };
        const onData = (chunk: string) => {
          for (const ch of chunk) {
            if (ch === '\r' || ch === '\n') return done();
            if (ch === '\u0003') return done(new Error('interrupted'));
            if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
            else typed += ch;
          }
        };
        stdin.on('data', onData);
      }),
  };
}
