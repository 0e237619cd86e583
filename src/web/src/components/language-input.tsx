// A language picker with search as you type: the model's languages as "code — name" suggestions.
interface Props {
  id: string;
  name: string;
  value: string;
  languages: { code: string; name: string }[];
  onChange(code: string): void;
  'aria-describedby'?: string;
}

export function LanguageInput({ id, name, value, languages, onChange, ...rest }: Props) {
  const list = `${id}-languages`;
  const known = languages.find((l) => l.code === value);
  return (
    <span class="language">
      <input id={id} name={name} type="text" list={list} value={value} autocomplete="off" spellcheck={false}
        placeholder="code or name, e.g. ko" aria-describedby={rest['aria-describedby']}
        onInput={(e) => {
          const typed = (e.currentTarget as HTMLInputElement).value;
          // Picking a suggestion fills "code — name": keep the code only.
          const match = languages.find((l) => `${l.code} — ${l.name}` === typed || l.name.toLowerCase() === typed.toLowerCase());
          onChange(match ? match.code : typed);
        }} />
      <datalist id={list}>{languages.map((l) => <option value={`${l.code} — ${l.name}`} />)}</datalist>
      {known && <span class="language-name">{known.name}</span>}
    </span>
  );
}
