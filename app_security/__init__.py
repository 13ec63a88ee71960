"""Web-server safeguards of Digit Lab that Streamlit does not offer itself."""
