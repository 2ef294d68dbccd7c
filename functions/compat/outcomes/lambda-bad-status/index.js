// A Lambda handler whose result is not a valid API Gateway result.
export async function handler() {
  return { statusCode: 'ok', body: 'x' };
}
