import Handlebars from 'handlebars';
Handlebars.registerHelper('upper', (s) => String(s).toUpperCase());
const template = Handlebars.compile('{{upper name}} has {{#each pets}}{{this}}{{#unless @last}}, {{/unless}}{{/each}}');
export default {
  fetch() {
    return new Response(template({ name: 'ada', pets: ['cat', 'dog'] }));
  },
};
