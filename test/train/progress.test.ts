/**
 * fit()'s progress display: in a terminal, the live bar that the Node entry registers
 * (train/terminal_bar.ts, drawn by cli-progress on stderr); elsewhere one line per epoch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

function tiny(): rc.Sequential {
  rc.setSeed(3);
  const m = new rc.Sequential([
    new rc.layers.Dense({ units: 2, activation: 'softmax', inputShape: [3] }),
  ]);
  m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  return m;
}
const x = rc.zeros([16, 3]);
const y = rc.zeros([16], 'int32');

/** Runs fit with verbose 1, as in a terminal or not, and returns what it printed and drew. */
async function fitAndCapture(terminal: boolean): Promise<{ lines: string; drawn: string }> {
  const streams = [process.stdout, process.stderr] as { isTTY?: boolean }[];
  const wasTTY = streams.map((s) => s.isTTY);
  const write = process.stderr.write;
  const log = console.log;
  let drawn = '';
  let lines = '';
  for (const s of streams) s.isTTY = terminal;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    drawn += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  console.log = (line: string) => {
    lines += `${line}\n`;
  };
  try {
    await tiny().fit(x, y, { epochs: 2, batchSize: 4, verbose: 1 });
  } finally {
    process.stderr.write = write;
    console.log = log;
    streams.forEach((s, i) => {
      s.isTTY = wasTTY[i];
    });
  }
  return { lines, drawn };
}

test('in a terminal, each epoch has a live bar with the step count and the loss', async () => {
  const { lines, drawn } = await fitAndCapture(true);
  assert.match(drawn, /4\/4 \[=+\] ETA \d+s - loss: 0\.\d{4}/, 'no bar was drawn');
  assert.match(lines, /^Epoch 1\/2\n4\/4 - \S+ \d+ms\/step - loss: 0\.\d{4}\nEpoch 2\/2\n/);
});

test('elsewhere (a log, CI), one line per epoch and no bar', async () => {
  const { lines, drawn } = await fitAndCapture(false);
  assert.equal(drawn, '');
  assert.match(lines, /^Epoch 1\/2\n4\/4 - \S+ \d+ms\/step - loss: 0\.\d{4}\nEpoch 2\/2\n4\/4 - /);
});
