// nn.Module: parameters and sub-modules found in fields (as torch's attribute registration), state dicts, safetensors.
import { geulError } from '../../core/errors.js';
import { readSafetensors, writeSafetensors } from '../../core/weights/safetensors.js';
import { floatToHalf, halfToFloat, type HalfWeightTensor, type WeightTensor } from '../../core/weights/tensor.js';
import { dataNode } from '../lazy.js';
import { Tensor } from '../tensor.js';

/** A tensor a Module owns and optimizers update: a float32 leaf with requiresGrad. */
export class Parameter extends Tensor {
  constructor(data: Tensor) {
    const node = data.node;
    if (node.data === undefined) throw geulError('INVALID_INPUT', { detail: 'Parameter: the initial value must be realised (await t.realize() first)' });
    if (node.dtype !== 'float32') throw geulError('INVALID_INPUT', { detail: `Parameter: float32 only (got ${node.dtype})` });
    super(dataNode('float32', node.shape, node.data));
    this.requiresGrad = true;
  }
}

export abstract class Module {
  /** Training mode (Dropout drops only then); `train()`/`eval()` set it for the whole tree. */
  training = true;

  abstract forward(...inputs: Tensor[]): Tensor;

  /** Direct sub-modules by field name (arrays of modules count, named `field.i`). */
  *namedChildren(): Generator<[string, Module]> {
    for (const [name, value] of Object.entries(this)) {
      if (value instanceof Module) yield [name, value];
      else if (Array.isArray(value)) for (const [i, item] of value.entries()) if (item instanceof Module) yield [`${name}.${i}`, item];
    }
  }

  /**
   * Every parameter with its dotted name (`0.weight`, `encoder.bias`), own ones first, in field order. A parameter
   * shared by several fields (tied weights) comes once, under its first name, as in torch.
   */
  *namedParameters(prefix = '', seen = new Set<Parameter>()): Generator<[string, Parameter]> {
    for (const [name, value] of Object.entries(this)) {
      if (!(value instanceof Parameter) || seen.has(value)) continue;
      seen.add(value);
      yield [prefix + name, value];
    }
    for (const [name, child] of this.namedChildren()) yield* child.namedParameters(`${prefix}${name}.`, seen);
  }

  parameters(): Parameter[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  train(mode = true): this {
    this.training = mode;
    for (const [, child] of this.namedChildren()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** The current parameter values by name (detached tensors sharing the data). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters()].map(([name, p]) => [name, p.detach()]));
  }

  /**
   * Copies values into the parameters; names and shapes must match (all of them unless `strict` is false). float16
   * values (a state dict made with `.half()`) are widened: parameters stay float32 so they can train.
   */
  loadStateDict(state: ReadonlyMap<string, Tensor> | Record<string, Tensor>, o: { strict?: boolean; source?: string } = {}): void {
    const entries = state instanceof Map ? state : new Map(Object.entries(state));
    const params = new Map(this.namedParameters());
    const mismatch = (detail: string) => geulError('STATE_DICT_MISMATCH', { model: o.source ?? 'state dict', architecture: this.constructor.name, detail });
    if (o.strict !== false) {
      const missing = [...params.keys()].filter((k) => !entries.has(k));
      const unexpected = [...entries.keys()].filter((k) => !params.has(k));
      if (missing.length || unexpected.length) throw mismatch(`missing ${missing.join(', ') || 'none'}; unexpected ${unexpected.join(', ') || 'none'}`);
    }
    for (const [name, value] of entries) {
      const p = params.get(name);
      if (!p) continue;
      if (value.shape.join() !== p.shape.join()) throw mismatch(`${name} has shape [${value.shape.join(', ')}], the model needs [${p.shape.join(', ')}]`);
      const data = value.node.data;
      if (data === undefined || (value.dtype !== 'float32' && value.dtype !== 'float16')) throw mismatch(`${name} must be a realised float32 or float16 tensor`);
      p.assign(value.dtype === 'float16' ? Float32Array.from(data as Uint16Array, halfToFloat) : data);
    }
  }

  /** Writes the parameters as a safetensors file: F32, or F16 (half the size, values rounded) with `{ dtype: 'float16' }`. */
  save(path: string, o: { dtype?: 'float32' | 'float16' } = {}): void {
    const tensors = new Map<string, WeightTensor | HalfWeightTensor>();
    for (const [name, p] of this.namedParameters()) {
      const data = p.node.data as Float32Array;
      tensors.set(name, o.dtype === 'float16' ? { shape: p.shape, data: Uint16Array.from(data, floatToHalf) } : { shape: p.shape, data });
    }
    writeSafetensors(path, tensors, { format: 'pt' });
  }

  /** Loads parameters saved by `save` (or any safetensors file with the same names and shapes; F16/BF16 are widened). */
  load(path: string, o: { strict?: boolean } = {}): void {
    const { tensors } = readSafetensors(path);
    const state = new Map([...tensors].map(([name, t]) => [name, new Tensor(dataNode('float32', t.shape, t.data))]));
    this.loadStateDict(state, { ...o, source: path });
  }
}
