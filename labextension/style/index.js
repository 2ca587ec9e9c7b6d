import './base.css';
import './picker.css';
import './catalog.css';
