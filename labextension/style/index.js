import './base.css';
import './picker.css';
