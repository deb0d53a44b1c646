/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';

// `GET /docs`: the OpenAPI document as one server-rendered page, no script and nothing from another origin,
// for hubs in networks without internet access.

type Json = Record<string, unknown>;
const METHODS = ['get', 'post', 'put', 'delete', 'patch'];

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

function Schema({ label, schema }: { label: string; schema: unknown }) {
  return (
    <details>
      <summary>{label}</summary>
      <pre>{pretty(schema)}</pre>
    </details>
  );
}

function Operation({ method, path, op }: { method: string; path: string; op: Json }) {
  const params = (op.parameters ?? []) as Json[];
  const body = (op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
  const responses = op.responses as Record<string, Json>;
  const id = String(op.operationId);
  return (
    <section id={id} aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>
        <code>
          {method.toUpperCase()} {path}
        </code>
      </h3>
      <p>{String(op.summary)}</p>
      {op['x-roles'] ? <p>Roles: {(op['x-roles'] as string[]).join(', ')}</p> : null}
      {params.length > 0 ? (
        <table>
          <caption>Parameters</caption>
          <thead>
            <tr>
              <th scope="col">name</th>
              <th scope="col">in</th>
              <th scope="col">required</th>
              <th scope="col">schema</th>
            </tr>
          </thead>
          <tbody>
            {params.map((p) => (
              <tr>
                <td>
                  <code>{String(p.name)}</code>
                </td>
                <td>{String(p.in)}</td>
                <td>{p.required ? 'yes' : 'no'}</td>
                <td>
                  <code>{JSON.stringify(p.schema)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {body
        ? Object.entries(body).map(([media, c]) => (
            <>
              <Schema label={`Request body (${media})`} schema={c.schema} />
              {c.example !== undefined ? <Schema label="Request example" schema={c.example} /> : null}
            </>
          ))
        : null}
      <dl>
        {Object.entries(responses).map(([status, r]) => {
          const content = (r.content ?? {}) as Record<string, Json>;
          const parts: Child[] = Object.entries(content).map(([media, c]) =>
            c.schema && !(c.schema as Json).$ref ? (
              <Schema label={`${media} schema`} schema={c.schema} />
            ) : null,
          );
          return (
            <>
              <dt>{status}</dt>
              <dd>
                {String(r.description)}
                {parts}
              </dd>
            </>
          );
        })}
      </dl>
    </section>
  );
}

/** The reference page of an OpenAPI document. */
export function ReferencePage({ doc, stylesheet }: { doc: Json; stylesheet?: string }) {
  const info = doc.info as Json;
  const paths = doc.paths as Record<string, Json>;
  const ops = Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ method: m, path, op: item[m] as Json })),
  );
  const tags = [...new Set(ops.map((o) => String((o.op.tags as string[])[0])))];
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{String(info.title)} reference</title>
        {stylesheet ? <link rel="stylesheet" href={stylesheet} /> : null}
      </head>
      <body>
        <header>
          <h1>
            {String(info.title)} {String(info.version)}
          </h1>
          <p>{String(info.description)}</p>
          <p>
            Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI {String(doc.openapi)}).
          </p>
        </header>
        <nav aria-label="Sections">
          <ul>
            {tags.map((t) => (
              <li>
                <a href={`#tag-${t}`}>{t}</a>
              </li>
            ))}
          </ul>
        </nav>
        <main>
          {tags.map((t) => (
            <section id={`tag-${t}`} aria-labelledby={`tag-${t}-h`}>
              <h2 id={`tag-${t}-h`}>{t}</h2>
              {ops
                .filter((o) => (o.op.tags as string[])[0] === t)
                .map((o) => (
                  <Operation {...o} />
                ))}
            </section>
          ))}
        </main>
      </body>
    </html>
  );
}
