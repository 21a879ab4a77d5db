"""Session Management: iFrame plugin sessions and their authorized URLs."""
