"""The ontology: OWL/SKOS in Turtle (``kx.ttl``), SHACL shapes (``shapes.ttl``) and the vocabulary
as closed Python terms (``terms``, ``vocabulary``). Graph labels and relationship types come from
here and nowhere else."""
