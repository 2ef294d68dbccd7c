import Papa from 'papaparse';
export default {
  fetch() {
    const parsed = Papa.parse('name,age\nAda,36\n"Lovelace, A",37\n', { header: true, skipEmptyLines: true, dynamicTyping: true });
    return new Response(JSON.stringify({ data: parsed.data, csv: Papa.unparse([{ a: 1, b: 'x,y' }]) }));
  },
};
