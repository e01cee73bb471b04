/** Reads a field of an agent's optional JSON-object input, with the profile's default. */
export function opt(input: unknown, key: string, dflt: string): string;
export function opt(input: unknown, key: string, dflt: number): number;
export function opt(input: unknown, key: string, dflt: boolean): boolean;
export function opt(input: unknown, key: string, dflt: string | number | boolean): string | number | boolean {
  if (input && typeof input === 'object' && !Array.isArray(input) && key in input) {
    const v = (input as Record<string, unknown>)[key];
    if (typeof v === typeof dflt) return v as string | number | boolean;
  }
  return dflt;
}
