// har-validator ships no types: harValidator.har(har) resolves with the HAR or rejects with its schema errors.
declare module 'har-validator' {
  const validator: { har(data: unknown): Promise<unknown> };
  export default validator;
}
