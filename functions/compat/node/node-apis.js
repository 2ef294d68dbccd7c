// The Node built-ins fn provides, as a function written for Node would use them.
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { format, inspect, promisify, types } from 'node:util';
import path from 'node:path';

const atLoad = process.env.GREETING;

export default {
  async fetch() {
    const emitter = new EventEmitter();
    const heard = [];
    emitter.on('ping', (n) => heard.push(n));
    emitter.emit('ping', 1);
    emitter.emit('ping', 2);
    const order = [];
    await new Promise((resolve) => {
      process.nextTick(
        (a, b) => {
          order.push(`tick ${a}${b}`);
          resolve();
        },
        'x',
        'y',
      );
      order.push('sync');
    });
    const later = promisify((v, cb) => setTimeout(() => cb(null, v * 2), 1));
    process.env.WRITTEN = 'yes';
    return new Response(
      JSON.stringify({
        base64: Buffer.from('héllo').toString('base64'),
        hex: Buffer.from([1, 255]).toString('hex'),
        concat: Buffer.concat([Buffer.from('a'), Buffer.from('b')]).toString(),
        heard,
        format: format('%s is %d years and %j', 'Ada', 36, { x: 1 }),
        inspect: inspect({ a: [1, { b: 2 }] }),
        promisified: await later(21),
        isDate: types.isDate(new Date()),
        join: path.join('/a/b', '../c', 'd.txt'),
        ext: path.extname('x/y.tar.gz'),
        greeting: process.env.GREETING,
        written: process.env.WRITTEN,
        nodeEnv: process.env.NODE_ENV,
        atLoadHadSecret: atLoad !== undefined,
        order,
      }),
    );
  },
};
