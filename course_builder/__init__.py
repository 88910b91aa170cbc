"""course-builder: a module (module.yaml and Markdown pages) -> a cmi5 package whose assignable unit speaks xAPI
to any LRS, and publishing it to ours. A client of the LRS: it never touches the LRS's database."""
