import { SignJWT, jwtVerify, decodeJwt } from 'jose';
export default {
  async fetch() {
    const key = new TextEncoder().encode('a-secret-of-at-least-32-bytes-long!!');
    const jwt = await new SignJWT({ sub: 'user-1', role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(1700000000)
      .setExpirationTime('2h')
      .sign(key);
    const { payload, protectedHeader } = await jwtVerify(jwt, key);
    let tampered = 'verified';
    try {
      await jwtVerify(jwt.slice(0, -2) + (jwt.endsWith('AA') ? 'BB' : 'AA'), key);
    } catch (e) {
      tampered = e.code;
    }
    return new Response(JSON.stringify({ jwt, sub: payload.sub, role: decodeJwt(jwt).role, alg: protectedHeader.alg, tampered }));
  },
};
