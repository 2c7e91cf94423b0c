// Lint Neo4j Cypher with Neo4j's own front end. Reads a JSON list of statements on stdin and prints
// a JSON list with, for each statement, the diagnostics that are errors (severity 1) or warnings
// (severity 2, deprecations included), parameter "undefined" errors left out.
import { lintCypherQuery, isNotParamError, testData } from "@neo4j-cypher/language-support";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const statements = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const schema = {
  procedures: testData.mockSchema.procedures,
  functions: testData.mockSchema.functions,
};
const results = statements.map((query) => {
  const { diagnostics } = lintCypherQuery(query, schema);
  return {
    query,
    problems: diagnostics
      .filter((d) => d.severity === 1 || d.severity === 2)
      .filter((d) => isNotParamError(d))
      .map((d) => ({ severity: d.severity, message: d.message })),
  };
});
process.stdout.write(JSON.stringify(results));
