import Mustache from 'mustache';
export default {
  fetch() {
    return new Response(
      Mustache.render('Hello {{name}}! {{#items}}[{{.}}]{{/items}} {{{raw}}} {{esc}}', { name: 'Ada', items: [1, 2], raw: '<b>', esc: '<i>' }),
    );
  },
};
