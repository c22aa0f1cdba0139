/* placeholder: names helper writes this */
