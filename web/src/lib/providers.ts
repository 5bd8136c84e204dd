// Provider names and key-shape hints for the provider-key form. Client-side checks are for
// convenience only; the server validates every key against the provider.

export interface ProviderInfo {
  id: string;
  name: string;
  /** Needs a base URL (Azure endpoint, Ollama or compatible server). */
  needsBaseUrl: boolean;
  /** Whether a key is required (Ollama usually has none). */
  keyOptional: boolean;
  placeholder: string;
}

export const kProviders: ProviderInfo[] = [
  { id: 'openai', name: 'OpenAI', needsBaseUrl: false, keyOptional: false, placeholder: 'sk-proj-…' },
  { id: 'anthropic', name: 'Anthropic', needsBaseUrl: false, keyOptional: false, placeholder: 'sk-ant-…' },
  { id: 'azure', name: 'Azure OpenAI', needsBaseUrl: true, keyOptional: false, placeholder: 'Azure API key' },
  { id: 'ollama', name: 'Ollama', needsBaseUrl: true, keyOptional: true, placeholder: '(optional)' },
  { id: 'openai_compatible', name: 'OpenAI-compatible server', needsBaseUrl: true, keyOptional: true,
    placeholder: 'API key' },
];

export function providerName(id: string): string {
  return kProviders.find((p) => p.id === id)?.name ?? id;
}

/** Guesses the provider from a key's prefix; null when the shape says nothing. */
export function detectProvider(key: string): string | null {
  const k = key.trim();
  if (k.startsWith('sk-ant-')) return 'anthropic';
  if (/^sk-(proj-|svcacct-|admin-)?[A-Za-z0-9_-]{8,}/.test(k)) return 'openai';
  return null;
}

/** Normalises pasted key text: trims whitespace and stray quotes around it. */
export function cleanKey(key: string): string {
  return key.trim().replace(/^["']|["']$/g, '').trim();
}
