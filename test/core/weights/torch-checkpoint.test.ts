// pytorch_model.bin: torch's zip + pickle layout reads into float32 tensors; hostile or malformed pickles are refused unexecuted.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGeulError } from '../../../src/core/errors.js';
import { unpickleStateDict } from '../../../src/core/weights/pickle.js';
import { openTorchCheckpoint } from '../../../src/core/weights/torch-checkpoint.js';
import { op, torchSave, zipStored } from '../../helpers/torch-save.js';

const dir = mkdtempSync(join(tmpdir(), 'geul-torch-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const fails = (code: string, detail?: RegExp) => (err: unknown) =>
  isGeulError(err) && err.code === code && (detail === undefined || detail.test(err.message));

function save(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

test('reads a torch.save state_dict: shapes, values, shared storages and strided views', () => {
  const embeddings = new Float32Array([1, 2, 3, 4, 5, 6]);
  const path = save('pytorch_model.bin', torchSave([
    ['bert.embeddings.word_embeddings.weight', { shape: [3, 2], data: embeddings }],
    ['bert.pooler.dense.bias', { shape: [2], data: new Float32Array([0.5, -0.25]) }],
    // A tied decoder shares the embedding storage; a transposed view reads it with strides (2, 1) → (1, 2).
    ['cls.predictions.decoder.weight', { shape: [3, 2], data: embeddings, storage: 'bert.embeddings.word_embeddings.weight' }],
    ['transposed', { shape: [2, 3], stride: [1, 2], data: embeddings, storage: 'bert.embeddings.word_embeddings.weight' }],
    ['scalar', { shape: [], data: new Float32Array([7]) }],
  ], 'pytorch_model'));
  const source = openTorchCheckpoint(path);
  try {
    assert.deepEqual([...source.tensors.keys()], ['bert.embeddings.word_embeddings.weight', 'bert.pooler.dense.bias', 'cls.predictions.decoder.weight', 'transposed', 'scalar']);
    assert.deepEqual(source.tensors.get('bert.pooler.dense.bias'), { dtype: 'F32', shape: [2] });
    assert.deepEqual([...source.read('bert.embeddings.word_embeddings.weight').data], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...source.read('bert.pooler.dense.bias').data], [0.5, -0.25]);
    assert.deepEqual([...source.read('cls.predictions.decoder.weight').data], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...source.read('transposed').data], [1, 3, 5, 2, 4, 6]);
    assert.deepEqual(source.read('scalar'), { shape: [], data: new Float32Array([7]) });
  } finally {
    source.close();
  }
});

test('HalfStorage and BFloat16Storage tensors widen to float32', () => {
  const path = save('half.bin', torchSave([
    ['h', { shape: [3], data: new Uint16Array([0x3c00, 0xc000, 0x3800]), storageType: 'HalfStorage' }],
    ['b', { shape: [2], data: new Uint16Array([0x3f80, 0xc0a0]), storageType: 'BFloat16Storage' }],
  ]));
  const source = openTorchCheckpoint(path);
  try {
    assert.deepEqual(source.tensors.get('h'), { dtype: 'F16', shape: [3] });
    assert.deepEqual([...source.read('h').data], [1, -2, 0.5]);
    assert.deepEqual([...source.read('b').data], [1, -5]);
  } finally {
    source.close();
  }
});

const pickleFile = (...ops: Buffer[]) => Buffer.concat([op.proto(2), ...ops]);

test('a GLOBAL outside the allow-list (os.system) is refused before anything runs', () => {
  const evil = pickleFile(op.global('os', 'system'), op.str('touch /tmp/pwned'), Buffer.from([0x85]), op.reduce, op.stop);
  assert.throws(() => unpickleStateDict(evil, 'evil.bin'), fails('PICKLE_REJECTED', /the global os\.system/));
  const viaStack = pickleFile(op.str('builtins'), op.str('eval'), Buffer.from([0x93]), op.stop);
  assert.throws(() => unpickleStateDict(viaStack, 'evil.bin'), fails('PICKLE_REJECTED', /builtins\.eval/));
  // Inside a real archive, the same refusal surfaces when the checkpoint is opened.
  const path = save('evil.bin', zipStored([['archive/data.pkl', evil]]));
  assert.throws(() => openTorchCheckpoint(path), fails('PICKLE_REJECTED', /os\.system/));
});

test('REDUCE of anything but an allow-listed callable is refused', () => {
  const storageCalled = pickleFile(op.global('torch', 'FloatStorage'), op.emptyTuple, op.reduce, op.stop);
  assert.throws(() => unpickleStateDict(storageCalled, 'x.bin'), fails('PICKLE_REJECTED', /REDUCE of torch\.FloatStorage/));
  const stringCalled = pickleFile(op.str('os.system'), op.emptyTuple, op.reduce, op.stop);
  assert.throws(() => unpickleStateDict(stringCalled, 'x.bin'), fails('PICKLE_REJECTED', /not a callable/));
});

test('unknown opcodes, foreign persistent ids and non-tensor entries are refused', () => {
  const inst = pickleFile(Buffer.from('iposix\nsystem\n'), op.stop); // INST: protocol-0 call opcode
  assert.throws(() => unpickleStateDict(inst, 'x.bin'), fails('PICKLE_REJECTED', /opcode 0x69/));
  const pid = pickleFile(op.mark, op.str('module'), op.str('x'), op.tuple, op.binpersid, op.stop);
  assert.throws(() => unpickleStateDict(pid, 'x.bin'), fails('PICKLE_REJECTED', /persistent id/));
  const truncated = pickleFile(op.str('abc')).subarray(0, 5);
  assert.throws(() => unpickleStateDict(truncated, 'x.bin'), fails('PICKLE_REJECTED', /truncated/));
  const notTensor = pickleFile(op.global('collections', 'OrderedDict'), op.emptyTuple, op.reduce, op.str('step'), op.int(3), op.setitem, op.stop);
  assert.throws(() => openTorchCheckpoint(save('int.bin', zipStored([['archive/data.pkl', notTensor]]))), fails('PICKLE_REJECTED', /"step" that is not a tensor/));
});

test('archives that are not torch zips, truncated or missing storages are refused clearly', () => {
  assert.throws(() => openTorchCheckpoint(save('legacy.bin', Buffer.from([0x80, 0x02, 0x8a, 0x0a]))), fails('WEIGHTS_INVALID', /legacy/));
  const good = torchSave([['w', { shape: [4], data: new Float32Array([1, 2, 3, 4]) }]]);
  assert.throws(() => openTorchCheckpoint(save('cut.bin', good.subarray(0, good.length - 30))), fails('WEIGHTS_INVALID', /truncated|end-of-central/));
  const noPickle = zipStored([['archive/data/0', Buffer.alloc(16)]]);
  assert.throws(() => openTorchCheckpoint(save('nopkl.bin', noPickle)), fails('WEIGHTS_INVALID', /data\.pkl/));
  // A storage entry shorter than the numel the pickle declares.
  const entries = [['archive/data.pkl', extractPickle(good)], ['archive/data/0', Buffer.alloc(8)]] as const;
  assert.throws(() => openTorchCheckpoint(save('short.bin', zipStored(entries))), fails('WEIGHTS_SIZE_MISMATCH'));
});

/** The data.pkl bytes of a torchSave archive (its first entry, whose local header starts at 0). */
function extractPickle(zip: Buffer): Buffer {
  const nameLength = zip.readUInt16LE(26);
  const extraLength = zip.readUInt16LE(28);
  return zip.subarray(30 + nameLength + extraLength, 30 + nameLength + extraLength + zip.readUInt32LE(18));
}
