/**
 * A secret value or key without putting it on the command line (shell history, `ps`): on a
 * terminal, a prompt on stderr that does not echo what is typed; otherwise the whole of stdin, less
 * one trailing newline (so `echo "$TOKEN" | fn secret set f TOKEN` stores the token, not token\n).
 */
export async function readSecret(prompt: string, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (stdin.isTTY) return hiddenPrompt(prompt, stdin);
  let text = '';
  stdin.setEncoding('utf8');
  for await (const chunk of stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

function hiddenPrompt(prompt: string, stdin: NodeJS.ReadStream): Promise<string> {
  // Echo off before the prompt shows: what is typed as soon as it appears must not be echoed.
  stdin.setRawMode(true);
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('cancelled (Ctrl-C): nothing was changed'));
        if (ch === '\u0004') return done();
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.setEncoding('utf8');
    stdin.resume();
    stdin.on('data', onData);
  });
}
