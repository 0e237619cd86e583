// GPT-2-small-shaped decoding: geul's generate vs a bare onnxruntime-node greedy loop with the same KV cache.
export async function benchGpt2(_out: string, _rounds: number): Promise<string | undefined> {
  console.log('GPT-2 benchmark: waiting for the tiny-gpt2 fixture writer');
  return undefined;
}
