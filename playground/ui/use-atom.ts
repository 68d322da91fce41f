import { useEffect, useState } from "preact/hooks";
import type { Atom } from "../atom.ts";

/** useAtom renders a component again whenever the atom changes. */
export function useAtom<T>(atom: Atom<T>): T {
  const [value, setValue] = useState(atom.get());
  useEffect(() => {
    setValue(atom.get());
    return atom.subscribe(setValue);
  }, [atom]);
  return value;
}
