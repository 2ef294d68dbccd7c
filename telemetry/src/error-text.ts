/** An error as one log field: "Name: message" for an Error, its string form for anything thrown. */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
