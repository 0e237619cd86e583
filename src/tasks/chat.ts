// Chat prompts from a model's own chat template (transformers.js's Jinja), and token counts for usage reports.
import { geulError } from '../core/errors.js';
import type { LoadedModel } from '../runtime/models.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatPrompt {
  /** The conversation rendered by the template, ending in the assistant's turn. */
  prompt: string;
  /** Its length in the model's tokens. */
  tokens: number;
}

/** Whether the model's tokenizer_config.json carries a chat template (a string, or named templates). */
export function hasChatTemplate(loaded: LoadedModel): boolean {
  const template = (loaded.tokenizer as unknown as { chat_template?: unknown }).chat_template;
  return typeof template === 'string' ? template.length > 0 : template !== null && typeof template === 'object';
}

/** Renders messages with the model's chat template, opening the assistant's turn; a model without one is refused. */
export function renderChat(loaded: LoadedModel, messages: readonly ChatMessage[], publicName: string): ChatPrompt {
  if (!hasChatTemplate(loaded)) {
    throw geulError('TASK_NOT_SUPPORTED', { model: publicName, task: 'chat', detail: 'it has no chat template (tokenizer_config.json has no "chat_template"); use /v1/completions with a plain prompt' });
  }
  let prompt: string;
  try {
    prompt = loaded.tokenizer.apply_chat_template(messages.map((m) => ({ ...m })), { tokenize: false, add_generation_prompt: true }) as string;
  } catch (err) {
    // A template may refuse a conversation (e.g. roles out of order) with raise_exception: its message is the reason.
    throw geulError('INVALID_INPUT', { detail: `messages: the chat template of ${publicName} refused them: ${String((err as Error).message).split('\n')[0].slice(0, 300)}` }, err);
  }
  return { prompt, tokens: loaded.tokenizer.encode(prompt, { add_special_tokens: false }).length };
}

/** How many tokens each text is for the model (with the special tokens the model's own encoding adds). */
export function countTokens(loaded: LoadedModel, texts: readonly string[], addSpecialTokens: boolean): number[] {
  return texts.map((text) => loaded.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).length);
}
