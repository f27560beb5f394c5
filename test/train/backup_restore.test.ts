/**
 * BackupAndRestore: a fit() stopped anywhere (mid-epoch, after an epoch's last batch, in the
 * first epoch) and continued by a new fit() on the same backup ends with the weights and the
 * history of an uninterrupted run, bit for bit; a backup moves between backends; a backup of
 * another model is refused.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { tempDirs } from '../helpers.js';

const { layers } = rc;
const tempDir = tempDirs('rc-backup-');

function model(): rc.Sequential {
  rc.setSeed(11);
  const m = new rc.Sequential([
    new layers.Dense({ units: 16, activation: 'relu', inputShape: [6] }),
    new layers.Dropout({ rate: 0.2 }),
    new layers.Dense({ units: 3, activation: 'softmax' }),
  ]);
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

const r = new rc.Random(5);
const x = rc.tensor(
  Float32Array.from({ length: 50 * 6 }, () => r.normal()),
  [50, 6],
);
const y = rc.tensor(
  Int32Array.from({ length: 50 }, (_, i) => (i * 7) % 3),
  [50],
  'int32',
);
const vx = rc.slice(x, [0, 0], [10, 6]);
const vy = rc.slice(y, [0], [10]);
// 50 examples in batches of 8: 7 batches an epoch, the last one of 2.
const fitOptions = {
  epochs: 4,
  batchSize: 8,
  seed: 3,
  verbose: 0 as const,
  validationData: [vx, vy] as [rc.Tensor, rc.Tensor],
};

/** Stops training after batch `batch` of epoch `epoch` (as Ctrl-C does, through stopTraining). */
class StopAt extends rc.Callback {
  private epoch = 0;
  constructor(private readonly at: [number, number]) {
    super();
  }
  override onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }
  override onBatchEnd(batch: number): void {
    if (this.epoch === this.at[0] && batch === this.at[1]) this.model.stopTraining = true;
  }
}

const bits = (m: rc.Model) => m.getWeights().map((w) => Buffer.from(w.buffer).toString('hex'));

const straight = model();
const whole = await straight.fit(x, y, fitOptions);

for (const [epoch, batch, what] of [
  [1, 3, 'in the middle of the second epoch'],
  [2, 6, "after the third epoch's last batch (before its validation)"],
  [0, 0, 'after the first batch'],
] as const) {
  test(`stopped ${what}, then resumed: the weights and the history of an uninterrupted run`, async () => {
    const dir = join(tempDir(), 'backup');
    const first = model();
    const h1 = await first.fit(x, y, {
      ...fitOptions,
      callbacks: [
        new StopAt([epoch, batch]),
        new rc.callbacks.BackupAndRestore({ backupDir: dir }),
      ],
    });
    assert.equal(h1.epoch.length, epoch, 'the epoch cut short is not recorded');
    const state = await rc.BackupAndRestore.read(dir);
    assert.ok(state, 'a backup was written when training stopped');
    assert.deepEqual([state.epoch, state.batch], [epoch, batch + 1]);

    // A new process would build the model afresh (other initial weights do not matter).
    const second = model();
    const h2 = await second.fit(x, y, {
      ...fitOptions,
      callbacks: [new rc.callbacks.BackupAndRestore({ backupDir: dir })],
    });
    assert.deepEqual(bits(second), bits(straight), 'the weights, bit for bit');
    assert.deepEqual(h2.epoch, whole.epoch);
    assert.deepEqual(h2.history, whole.history, 'loss, accuracy and their val_ twins, exactly');
    assert.ok(
      !existsSync(dir),
      'deleteCheckpoint (the default) removes the backup once training completes',
    );
  });
}

test('saveFreq in batches backs up mid-epoch; deleteCheckpoint: false keeps the backup', async () => {
  const dir = join(tempDir(), 'backup');
  const seen: [number, number][] = [];
  const probe = new (class extends rc.Callback {
    override async onBatchEnd(): Promise<void> {
      const s = await rc.BackupAndRestore.read(dir);
      if (s) seen.push([s.epoch, s.batch]);
    }
  })();
  const backup = new rc.callbacks.BackupAndRestore({
    backupDir: dir,
    saveFreq: 5,
    deleteCheckpoint: false,
  });
  const first = model();
  await first.fit(x, y, { ...fitOptions, epochs: 2, callbacks: [backup, probe] });
  // Batches 5 and 10 (the fourth of epoch 2) and the epoch ends.
  assert.deepEqual(seen.slice(0, 5), [
    [0, 5],
    [0, 5],
    [0, 5],
    [1, 0],
    [1, 0],
  ]);
  assert.ok(
    seen.some(([e, b]) => e === 1 && b === 3),
    `a backup at batch 10: ${JSON.stringify(seen)}`,
  );
  assert.ok(existsSync(join(dir, 'model.json')));
  const done = await rc.BackupAndRestore.read(dir);
  assert.deepEqual([done!.epoch, done!.batch], [2, 0]);
  // A run with nothing left to do still puts the trained weights back (a process killed
  // between the last epoch and its final save).
  let batches = 0;
  const count = new (class extends rc.Callback {
    override onBatchEnd(): void {
      batches++;
    }
  })();
  const again = model();
  const h = await again.fit(x, y, {
    ...fitOptions,
    epochs: 2,
    callbacks: [new rc.callbacks.BackupAndRestore({ backupDir: dir }), count],
  });
  assert.equal(batches, 0, 'no batch is trained again');
  assert.deepEqual(bits(again), bits(first), 'the weights are those the first run ended with');
  assert.equal(h.epoch.length, 2, 'the history of the two epochs comes back too');
});

test('a backup made on one backend continues on another', async () => {
  const dir = join(tempDir(), 'backup');
  const before = rc.getBackend();
  const other = rc.backendNames().find((b) => b !== before && b !== 'js-f64') ?? 'js';
  try {
    const first = model();
    await first.fit(x, y, {
      ...fitOptions,
      callbacks: [new StopAt([1, 2]), new rc.callbacks.BackupAndRestore({ backupDir: dir })],
    });
    const saved = first.getWeights();
    rc.setBackend(other);
    const second = model();
    let restored: Float32Array[] = [];
    const spy = new (class extends rc.Callback {
      override onTrainBegin(): void {
        restored = this.model.getWeights();
      }
    })();
    const h = await second.fit(x, y, {
      ...fitOptions,
      callbacks: [new rc.callbacks.BackupAndRestore({ backupDir: dir }), spy],
    });
    assert.deepEqual(restored, saved, `the weights arrive on '${other}' as they were saved`);
    assert.equal(h.epoch.length, 4);
  } finally {
    rc.setBackend(before);
  }
});

test('a backup of another model, a folder that is not a backup, and bad options are errors', async () => {
  const dir = join(tempDir(), 'backup');
  await model().fit(x, y, {
    ...fitOptions,
    callbacks: [new StopAt([0, 1]), new rc.callbacks.BackupAndRestore({ backupDir: dir })],
  });
  const otherModel = new rc.Sequential([
    new layers.Dense({ units: 3, activation: 'softmax', inputShape: [6] }),
  ]);
  otherModel.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  await assert.rejects(
    otherModel.fit(x, y, {
      ...fitOptions,
      callbacks: [new rc.callbacks.BackupAndRestore({ backupDir: dir })],
    }),
    /BackupAndRestore: the backup in .* was made by another model \(4 weights against this model's 2\)/,
  );
  const plain = join(tempDir(), 'plain');
  await otherModel.save(plain);
  await assert.rejects(
    otherModel.fit(x, y, {
      ...fitOptions,
      callbacks: [new rc.callbacks.BackupAndRestore({ backupDir: plain })],
    }),
    /holds a model but no training state, so it is not a backup/,
  );
  assert.throws(() => new rc.callbacks.BackupAndRestore({ backupDir: '' }), rc.ArgumentError);
  assert.throws(
    () => new rc.callbacks.BackupAndRestore({ backupDir: dir, saveFreq: 0 }),
    /saveFreq must be 'epoch' or a positive number/,
  );
});
