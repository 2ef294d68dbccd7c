import validator from 'validator';
export default {
  fetch() {
    return new Response(
      JSON.stringify({
        email: validator.isEmail('ada@example.com'),
        notEmail: validator.isEmail('ada@'),
        uuid: validator.isUUID('9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d'),
        url: validator.isURL('https://example.com/x?y=1'),
        escape: validator.escape('<a href="x">'),
        ip: validator.isIP('192.168.0.1', 4),
      }),
    );
  },
};
