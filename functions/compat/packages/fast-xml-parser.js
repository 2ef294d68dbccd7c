import { XMLBuilder, XMLParser } from 'fast-xml-parser';
export default {
  fetch() {
    const parser = new XMLParser({ ignoreAttributes: false });
    const doc = parser.parse('<root><item id="1">one</item><item id="2">two</item></root>');
    const xml = new XMLBuilder({}).build({ a: { b: 'c' } });
    return new Response(JSON.stringify({ doc, xml }));
  },
};
