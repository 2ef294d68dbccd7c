import { produce } from 'immer';
export default {
  fetch() {
    const base = { todos: [{ text: 'a', done: false }] };
    const next = produce(base, (draft) => {
      draft.todos[0].done = true;
      draft.todos.push({ text: 'b', done: false });
    });
    return new Response(JSON.stringify({ base, next, shared: base === next, frozen: Object.isFrozen(next) }));
  },
};
