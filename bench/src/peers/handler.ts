/**
 * The peers' handler, the same logic as the fn functions of the benchmark: `hello` answers
 * "Hello from fn!\n"; `echo <json>` answers {"echo": <json>}. Run once per request by the
 * process and container peers (`node handler.js hello`); it prints the answer body and exits.
 * No imports or exports on purpose: it runs as it is in a container without a package.json.
 */
const [kind, body] = process.argv.slice(2);
if (kind === 'hello') process.stdout.write('Hello from fn!\n');
else if (kind === 'echo') process.stdout.write(JSON.stringify({ echo: JSON.parse(body ?? 'null') }));
else {
  process.stderr.write(`handler: unknown kind ${kind} — use hello or echo <json>\n`);
  process.exitCode = 2;
}
