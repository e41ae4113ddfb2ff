import { fieldBase } from "./ui";

/** A labelled status picker for lists; "" means every status. */
export function StatusFilter({
  id,
  value,
  options,
  onChange,
}: {
  id: string;
  value: string;
  options: readonly string[];
  onChange: (status: string) => void;
}) {
  return (
    <div className="mb-3">
      <label htmlFor={id} className="mr-2 text-sm font-medium">
        Status
      </label>
      <select
        id={id}
        className={`${fieldBase} w-auto`}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      >
        {options.map((s) => (
          <option key={s} value={s}>
            {s || "all"}
          </option>
        ))}
      </select>
    </div>
  );
}
