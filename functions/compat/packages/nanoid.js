import { customAlphabet, nanoid } from 'nanoid';
export default {
  fetch() {
    const hex = customAlphabet('0123456789abcdef', 12);
    return new Response(JSON.stringify({ id: nanoid(), hex: hex(), distinct: nanoid() !== nanoid() }));
  },
};
