"""Sources -> RDF (rdflib) -> SHACL-validated -> projected into the property graph."""
