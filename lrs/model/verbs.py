"""The verbs the LRS itself acts on or writes."""
ADL = "http://adlnet.gov/expapi/verbs/"
VOIDED = ADL + "voided"  # xAPI Data 2.3.2: its object is the StatementRef of the statement it voids
COMPLETED = ADL + "completed"  # what manual evidence records
