// Dead-code elimination for ONNX graphs: drops nodes and initializers no graph output depends on.
import type { AttributeValue, GraphProto, NodeProto } from './onnx-proto.js';

/** Every value name a node reads, including names its subgraphs (If branches, Scan bodies) read from outer scopes. */
function readsOf(node: NodeProto): string[] {
  const names = node.inputs.filter((n) => n !== '');
  for (const attr of Object.values(node.attributes)) if (attr.type === 'graph') names.push(...subgraphReads(attr));
  return names;
}

function subgraphReads(attr: Extract<AttributeValue, { type: 'graph' }>): string[] {
  return attr.value.nodes.flatMap(readsOf);
}

/**
 * A copy of `graph` without the nodes and initializers that no output needs (graph inputs are all kept: callers feed
 * them by name). Node order is preserved, so a topologically sorted graph stays sorted.
 */
export function pruneGraph(graph: GraphProto): GraphProto {
  const producer = new Map<string, number>();
  graph.nodes.forEach((node, i) => node.outputs.forEach((out) => producer.set(out, i)));
  const needed = new Set<string>(graph.outputs.map((o) => o.name));
  const keep = new Set<number>();
  const pending = [...needed];
  while (pending.length > 0) {
    const name = pending.pop()!;
    const index = producer.get(name);
    if (index === undefined || keep.has(index)) continue;
    keep.add(index);
    for (const read of readsOf(graph.nodes[index]!)) {
      if (!needed.has(read)) {
        needed.add(read);
        pending.push(read);
      }
    }
  }
  return {
    ...graph,
    nodes: graph.nodes.filter((_, i) => keep.has(i)),
    initializers: graph.initializers.filter((t) => needed.has(t.name)),
    valueInfo: graph.valueInfo?.filter((v) => needed.has(v.name)),
  };
}
