"""The competence engine: catalog, requirements, evidence rules, and each employee's plan."""
